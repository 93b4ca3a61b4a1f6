"""The single window for funding: programmes declared by funder plugins, eligibility with
explanations, funding requests fanned out to several funders and each answer tracked."""
