"""InferScope dashboard: `streamlit run app.py`."""
import streamlit as st

from pages.navigation import navigation

st.set_page_config(page_title="InferScope", page_icon=":material/speed:", layout="wide")
navigation().run()
