"""ADU validator: pandera checks on the Arrow batches.

See :mod:`adu_pandera.validator` (the validator and what runs where),
:mod:`adu_pandera.rules` (the rules-file format), :mod:`adu_pandera.inferred` (what is
checked without a rules file) and :mod:`adu_pandera.models` (DataFrameModels).
"""

from adu_pandera.validator import PanderaTableValidator, PanderaValidator

__all__ = ["PanderaTableValidator", "PanderaValidator"]
