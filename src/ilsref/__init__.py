"""ILS reference deployment: a real local stand-in for ILS 2.0, with fault switches."""

RELEASE = "2.0.0"
PREVIOUS_RELEASE = "1.9.3"
