"""DeclarativeManagement: tells the device to synchronise its declarations."""

from .base import CommandType, data_arg, only_keys, register


@register
class DeclarativeManagement(CommandType):
    request_type = "DeclarativeManagement"

    def clean(self, arguments):
        only_keys(arguments, {"Data"}, self.request_type)
        data_arg(arguments, "Data")
        return {"Data": arguments["Data"]} if arguments.get("Data") else {}

    def payload(self, device):
        return {"Data": data_arg(self.arguments, "Data")} if self.arguments else {}
