"""The products the runner builds, registered by name (as papermill registers its engines).

A new product is one module with a ``runner.Product`` subclass, and one line here. Modules are
imported only when their product is asked for, so the command line stays quick to start.
"""

from __future__ import annotations

from importlib import import_module

#: product name -> "module:class"
PRODUCTS = {
    "quarterly": "pipeline.orchestration.products.quarterly_product:Quarterly",
    "datapack": "pipeline.orchestration.products.datapack:Datapack",
    "validation": "pipeline.orchestration.products.validation:ValidationPages",
}


def product(name: str):
    """A new instance of the product registered as `name`."""
    module, _, cls = PRODUCTS[name].partition(":")
    return getattr(import_module(module), cls)()


def run(name: str, settings):
    """Run the product registered as `name` with `settings` (``pipeline.orchestration.runner``)."""
    from pipeline.orchestration import runner

    return runner.run(product(name), settings)
