"""Schema 13: text generation's figures: generated tokens per second, time to first token and inter-token latency
percentiles with their 95% intervals, perplexity and next-token top-1 with theirs, KL from FP32, greedy agreement
with FP32 and the tokens before the first difference, and the prompt, new and scored token counts.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
# The metric columns schema 13 added (the catalogue's `since=13` entries, as they were then).
INTERVALS = tuple(f"{name}_p{q}_ci_{end}_ms" for name, qs in (("ttft", (50, 90)), ("itl", (50, 90, 99)))
                  for q in qs for end in ("low", "high"))
FLOATS = ("generated_tokens_per_s", "ttft_p50_ms", "ttft_p90_ms", "itl_p50_ms", "itl_p90_ms", "itl_p99_ms",
          *INTERVALS, "perplexity", "perplexity_ci_low", "perplexity_ci_high", "next_token_top1",
          "next_token_top1_ci_low", "next_token_top1_ci_high", "kl_mean", "greedy_agreement",
          "greedy_agreement_ci_low", "greedy_agreement_ci_high", "greedy_prefix_tokens")
INTEGERS = ("eval_tokens", "prompt_tokens", "new_tokens")


def upgrade() -> None:
    for name in FLOATS:
        op.add_column("runs", sa.Column(name, sa.Float()))
    for name in INTEGERS:
        op.add_column("runs", sa.Column(name, sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for name in (*FLOATS, *INTEGERS):
            batch.drop_column(name)
