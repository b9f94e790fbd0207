"""Variables, one class each, loaded by ``TaxBenefitSystem.add_variables_from_directory``."""
