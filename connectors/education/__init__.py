"""Education files connector: school census, EYFSP and attendance exports from a drop folder."""
