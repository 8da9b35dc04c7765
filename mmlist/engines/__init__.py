"""Engines: what runs model threads. ``free`` runs them as free-running real threads (stress);
``controlled`` (the model checker) lets one real thread run at a time."""
