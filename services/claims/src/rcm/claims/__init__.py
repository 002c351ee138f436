"""Claims: coding, scrubbing, 837P batches, acknowledgements, corrected and secondary claims."""
