"""The live demo: the ten launch partners, their feeds served by the portal, and ``load_demo``."""
