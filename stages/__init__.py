"""The pipeline's stage scripts (`python -m stages.<name>`); this runs first in every stage's process.

scikit-learn's liblinear (the SVM, the logistic regression) calls BLAS through SciPy's OpenBLAS,
which picks its kernel by the processor: its AVX-512 kernel gave other coefficients than its AVX2
one (by up to 3e-6, enough to move a tuned threshold). Pinning the AVX2 kernel, which every x86-64
processor of the last decade has, gives every machine the same numbers; it must be set before
numpy loads OpenBLAS. See docs/reproducibility.md.
"""

import os
import platform

if platform.machine() in ("x86_64", "AMD64"):
    os.environ["OPENBLAS_CORETYPE"] = "Haswell"
