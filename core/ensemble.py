"""Ensembles: several saved runs loaded as one model that averages their probabilities."""

from __future__ import annotations

import keras

from core.adapters import inspection_view, is_adapted
from core.errors import ConfigError
from core.models import INPUT_SHAPE


def build_ensemble(members: list[keras.Model], name: str = "ensemble") -> keras.Model:
    """One Keras model whose output is the mean of the members' class probabilities.

    The members are renamed member_1, member_2, … (names must be unique): pass fresh models.
    """
    if len(members) < 2:
        raise ConfigError("an ensemble needs at least two models")
    if len({id(member) for member in members}) != len(members):
        raise ConfigError("each member of an ensemble must be a distinct model")
    for index, member in enumerate(members, start=1):
        member.name = f"member_{index}_{member.name}"
    image = keras.Input(shape=INPUT_SHAPE, name="image")
    outputs = [member(image, training=False) for member in members]
    average = keras.layers.Average(name="average")(outputs)
    return keras.Model(image, average, name=name)


def ensemble_members(model: keras.Model) -> list[keras.Model]:
    """The member models of an ensemble (empty for a plain model, and for an adapted upload's one inner model)."""
    if is_adapted(model):
        return []
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def inspectable_model(model: keras.Model) -> keras.Model:
    """The model whose layers the inspection pages show: an ensemble's first member, else itself.

    An adapted upload (core.adapters) shows its own layers behind the adapter's reshape, rescaling and softmax.
    """
    members = ensemble_members(model)
    return inspectable_model(members[0]) if members else inspection_view(model)
