"""Security properties: generated upload names under the data directory, nothing user-supplied is ever
unpickled, the app binds to localhost, and the upload limit holds on the server side."""
from __future__ import annotations

import hashlib
import pickle
import tomllib

from core import uploads
from core.models import build_model, parse_model
from tests.conftest import ROOT
from tests.helpers import TinyClassifier
from tests.reliability.test_bad_inputs import PAYLOAD_MARKER, Payload, onnx_file


def test_uploads_are_named_by_their_content_under_the_data_directory(api, tmp_path):
    model = onnx_file(tmp_path, "ok.onnx", TinyClassifier(), (1, 3, 16, 16), {"x": {0: "n"}})
    given = "../../../../tmp/owned .onnx"
    path = api.save_upload(given, model.read_bytes())
    assert path.parent == api.settings.home / "uploads"
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert path.name == f"{digest}.onnx"  # named by its content, never by the user's name
    assert not (api.settings.home / "uploads" / given).resolve().exists()  # where the name would have led
    (listed,) = [u for u in api.uploads() if u["path"] == str(path)]
    assert listed["name"] == "owned .onnx"  # the original name is kept only as text


def test_a_booby_trapped_weights_cache_is_never_unpickled(private_cache, settings, tmp_path):
    spec = "lenet5:epochs=1,train_limit=256,seed=7"
    build_model(parse_model(spec), settings)  # trains and caches the weights
    (cached,) = (settings.models_dir / "local").glob("lenet5-*.pt")
    cached.write_bytes(pickle.dumps(Payload(tmp_path / PAYLOAD_MARKER)))
    model = build_model(parse_model(spec), settings)  # weights_only loading refuses it; the model is retrained
    assert not (tmp_path / PAYLOAD_MARKER).exists()
    assert model.artifact.kind == "torch"


def test_the_app_binds_to_localhost_with_xsrf_and_the_upload_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert config["address"] == "localhost" and config["enableXsrfProtection"] is True
    # Streamlit's server refuses larger request bodies; the api checks again for every caller.
    assert config["maxUploadSize"] * 2 ** 20 == uploads.MAX_UPLOAD_BYTES
    assert config["fileWatcherType"] == "none" and config["runOnSave"] is False  # no watcher beside a timing loop


def test_the_dashboard_stays_out_of_the_timing_loops_way():
    """No full garbage collection after every script run (a third of a core for the queue poll with torch
    loaded; benchmarks/dashboard_cpu.py measures the page)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
