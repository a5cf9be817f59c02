"""InferScope's headless engine. The UI and the CLI use `core.api`."""
