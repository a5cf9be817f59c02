from core.bench.env import environment, fingerprint


def test_environment_and_fingerprint():
    env = environment("cpu", "onnxruntime", "CPUExecutionProvider", {"threads": 2})
    assert env["cpu"] and env["logical_cores"] >= 1 and "torch" in env["libraries"]
    assert env["runtime_settings"] == {"threads": 2}
    same = environment("cpu", "torch-eager", "cpu", {"threads": 1})
    assert fingerprint(env) == fingerprint(same)  # engine and threads are what runs compare
    other = {**env, "cpu": "Some Other CPU"}
    assert fingerprint(other) != fingerprint(env)
