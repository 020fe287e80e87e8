"""What a patient can take away: the calendar picture, the clinician's report, the export.

`facts.gather` reads everything once from the store into a `Record`; the renderers (`calendar`,
`report`, `export`, `text`) only turn a `Record` into bytes or words, and never read the store.
"""
