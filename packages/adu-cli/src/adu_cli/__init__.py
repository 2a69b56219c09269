"""ADU command line."""

import os

# ADU multiplies no matrices. Without this, numpy's OpenBLAS starts a thread per core when
# pyarrow imports numpy, and that thread spins for about 0.1 s of CPU on every `adu` start
# (measured with /usr/bin/time); a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
