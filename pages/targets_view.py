"""The live targets, as the Run and Explore pages list them, and the picker that addresses work to them."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.views import LOCAL_TARGET


def show_targets(api) -> list:
    """A table of the registered targets (hardware, live workers, queue); returns them."""
    targets = api.targets()
    if not targets:
        st.caption(f"Runs go to {LOCAL_TARGET}. To measure on another machine, point it at this store "
                   "(INFERSCOPE_DB) and start `python -m core worker --target NAME` there: it appears here.")
        return targets
    st.dataframe(pd.DataFrame([{
        "target": t.name, "status": "live" if t.live else "offline", "workers": t.live_workers, "queued": t.queued,
        "running": t.running, "hardware": t.hardware(), "last seen (UTC)": f"{t.last_seen_at:%Y-%m-%d %H:%M:%S}",
    } for t in targets]), hide_index=True, width="stretch", key="targets_table")
    offline = [t.name for t in targets if not t.live]
    if offline:
        st.caption(f"Offline: {', '.join(offline)} — work addressed to them waits in the queue until one of their "
                   "workers beats again.")
    return targets

