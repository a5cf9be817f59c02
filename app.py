"""InferScope dashboard: `streamlit run app.py`."""
import streamlit as st

st.set_page_config(page_title="InferScope", page_icon=":material/speed:", layout="wide")
navigation = st.navigation([
    st.Page("pages/runs.py", title="Runs", icon=":material/table_chart:", default=True),
])
navigation.run()
