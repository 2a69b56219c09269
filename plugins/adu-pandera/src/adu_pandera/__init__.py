"""ADU validator: pandera checks on the Arrow batches."""
