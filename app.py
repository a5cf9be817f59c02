"""InferScope dashboard: `streamlit run app.py`."""
import streamlit as st

st.set_page_config(page_title="InferScope", page_icon=":material/speed:", layout="wide")
navigation = st.navigation([
    st.Page("pages/run.py", title="Run", icon=":material/play_arrow:", default=True),
    st.Page("pages/explore.py", title="Explore", icon=":material/travel_explore:"),
    st.Page("pages/results.py", title="Results", icon=":material/scatter_plot:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/export.py", title="Export", icon=":material/download:"),
])
navigation.run()
