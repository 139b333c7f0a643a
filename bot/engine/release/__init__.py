"""The release module: the only code that turns answers into figures other people see."""
