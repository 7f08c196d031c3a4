"""Great Expectations 1.x validation of labeled examples: valid rows, quarantined rows with reasons."""

from ft_assets.validation.outcome import ExpectationSummary, ValidationOutcome
from ft_assets.validation.rules import ValidationRules
from ft_assets.validation.suite import validate_examples

__all__ = ["ExpectationSummary", "ValidationOutcome", "ValidationRules", "validate_examples"]
