"""Panel views of the engine's objects. Imports Panel: the engine never imports this package."""
