"""Text inputs: tokenized once outside the timed region, padded per batch the way the run asks."""
