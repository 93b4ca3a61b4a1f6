"""Follow-up of each event: event → action → carrier → funding → outcome; readmission watch; indicators."""
