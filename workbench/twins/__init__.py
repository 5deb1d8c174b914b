"""Digital twins of our car and of the whole field, and the models they fit as the race unfolds."""

from workbench.twins.car import CarTwin, car_twin_schema
from workbench.twins.context import TwinContext
from workbench.twins.field import FieldTwin
from workbench.twins.twin_schemas import field_twin_schema

__all__ = ["CarTwin", "FieldTwin", "TwinContext", "car_twin_schema", "field_twin_schema"]
