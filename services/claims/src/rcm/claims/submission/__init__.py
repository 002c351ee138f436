"""Submission: ready claims batched per submitter and payer into 837P files and uploaded by SFTP.

* :mod:`.x837`: a stored claim and its projections as a typed 837P (``rcm.x12``);
* :mod:`.batches`: cut batches (committed with their bytes and control numbers before any
  upload), upload them, and re-upload after a crash only what the server does not have.
"""
