"""The CQO's quality control: projects, indicators, release gates and planning-stage reviews."""
