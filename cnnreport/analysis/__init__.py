"""What the runs say: sweeps as objects, the statistics and the one rule for calling a difference real, the
original report's numbers, and the measured causes of our differences from it. Reads the runs store, trains
only through it."""
