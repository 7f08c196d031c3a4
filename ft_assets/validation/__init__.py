"""Great Expectations 1.x validation of labeled examples: valid rows, quarantined rows with reasons."""

from ft_assets.validation.outcome import RuleReport, ValidationOutcome
from ft_assets.validation.rules import RULES, ValidationRules
from ft_assets.validation.suite import validate_examples

__all__ = ["RULES", "RuleReport", "ValidationOutcome", "ValidationRules", "validate_examples"]
