"""How every portal form renders: labels without colons, help text under the field, a switch
for yes/no fields (``{{ form }}`` in a template uses ``templates/portal/form.html``)."""

from django.forms.renderers import TemplatesSetting


class PortalFormRenderer(TemplatesSetting):
    form_template_name = "portal/form.html"
