"""Text generation: causal language models, their quality (perplexity, next-token top-1, fidelity of greedy
continuations to FP32) and their speed token by token (time to first token, inter-token latency, tokens/s)."""
