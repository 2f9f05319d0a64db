"""Live aggregates for strategic reporting, with disclosure control.

Each consumes only chorus.share.strategic_reporting.* topics (the information map
reads the ledger's decisions, metadata only) and publishes cells to
chorus.agg.<name>. registry.py lists them; machinery.py registers them in a faust
worker, whose intake (intake.py) keeps their facts and cells and whose timer publishes;
engine.py and cellstore.py are the pure logic the stream and `chorus agg rebuild`
share; publication.py and streams/disclosure.py apply disclosure control.
"""
