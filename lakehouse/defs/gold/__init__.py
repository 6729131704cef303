"""Gold: business marts aggregated from silver by the gold_build Glue job."""
