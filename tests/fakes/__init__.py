"""Extensions written outside the tree, one module each, as a user would add them: the registries are all they
touch (tests/core/test_registries.py)."""
