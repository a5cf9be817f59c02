from pathlib import Path


def test_nothing_to_export(app_page):
    assert "No finished runs" in app_page("export").info[0].value


def test_export_flow_recommends_builds_verifies_and_offers_download(app_page, api, run_request):
    base = api.execute(api.submit(run_request()))
    fast = api.execute(api.submit(run_request("onnx_export")))
    assert base.status == fast.status == "done"
    at = app_page("export")
    assert "Recommended: run" in at.success[0].value
    at.button(key="build").click().run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert any(label.startswith("top1 of the file") for label in labels)
    download = at.get("download_button")[0]
    assert download.proto.label == "Download ONNX"
    exported = Path(at.session_state["exported"]["path"])
    assert exported.is_file() and exported.parent.name == "exports"

    exported.unlink()  # deleted before download: a clear message, no crash
    at.run()
    assert "was removed after it was built" in at.error[0].value
