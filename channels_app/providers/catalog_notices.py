"""The words an owner reads when the gateway moved their channel off a retired model (one home: the retire
service and the catalog's data migrations both use it)."""


def retirement_text(*, model_name: str, model_slug: str, channel_name: str, replacement_name: str,
                    replacement_slug: str, role: str) -> str:
    return (
        f"{model_name} ({model_slug}) was retired by its provider. Your channel \u201c{channel_name}\u201d now uses "
        f"{replacement_name} ({replacement_slug}) as its {role}; you can pick another model in its settings."
    )
