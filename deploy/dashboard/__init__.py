"""`chorus dashboard`: a live web page of every aggregate's published cells."""
