"""Page input for scanner reports and discovered assets (parsed here, decided by the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts import policy as accounts_policy
from accounts.models import BusinessUnit
from config import dates
from config.filters import PageFilterSet
from config.versioning import etag_of
from systems import policy as systems_policy
from systems.forms import PageForm
from systems.models import System
from vulnerabilities import filters, policy
from vulnerabilities.forms import VersionedForm
from vulnerabilities.models import DiscoveredAsset, Scan

DATE_INPUT = {"type": "date"}


def keepable_systems(user: Any) -> QuerySet[System]:
    """The systems whose register entry the person keeps (what `can_keep_inventory` allows),
    as one query: an administrator keeps every one; others, their units' (the change grant)."""
    if not getattr(user, "is_authenticated", False):
        return System.objects.none()
    if user.is_superuser:
        return System.objects.all()
    return accounts_policy.granted(user, System, "change")


def uploadable_systems(user: Any) -> QuerySet[System]:
    """The systems a person may upload a scan of (policy.scan_office): any the CISO's office
    sees, else the ones they keep. Retired systems are not offered."""
    if policy.ciso_office(user) is not None:
        systems = systems_policy.visible_systems(user)
    else:
        systems = keepable_systems(user)
    return (
        systems.exclude(status=System.Status.RETIRED)
        .select_related("unit")
        .order_by("unit__code", "code")
    )


class SystemChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.unit.code} / {obj.code} — {obj.name}"


class ScanUploadForm(PageForm):
    """A scanner report, the system it is of (the CISO's office may leave it empty: hosts are
    then placed by their network identities) and, optionally, the format it should be."""

    file = forms.FileField(
        label=_("Report file"),
        help_text=_(
            "Trivy or Grype JSON, a .nessus file, Greenbone/OpenVAS XML, SARIF 2.1.0, CycloneDX "
            "JSON with vulnerabilities, nmap XML or masscan JSON."
        ),
    )
    system = SystemChoice(queryset=System.objects.none(), label=_("System"), required=False)
    format = forms.ChoiceField(label=_("Format"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["system"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = uploadable_systems(user)
        self.whole_company = policy.ciso_office(user) is not None
        if self.whole_company:
            field.empty_label = str(_("None: place hosts by their network identities"))
            field.help_text = _("Leave empty for a scan of many systems or of addresses.")
        else:
            field.required = True
        fmt = self.fields["format"]
        assert isinstance(fmt, forms.ChoiceField)
        fmt.choices = [("", _("Detect from the file")), *Scan.Format.choices]


class ScanListFilter(PageFilterSet, filters.ScanFilter):
    """The scans list's filters."""

    order = ("format", "state")

    class Meta(filters.ScanFilter.Meta):
        fields = ["format", "state"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters.pop("system", None)


class AssetListFilter(PageFilterSet, filters.AssetFilter):
    """The discovered assets list's filters."""

    order = ("state", "overdue")

    class Meta(filters.AssetFilter.Meta):
        fields = ["state", "overdue"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters.pop("unit", None)


class AssetForm(VersionedForm):
    """A triage act on a discovered asset, against the version the reader saw (412 if not)."""

    @classmethod
    def for_asset(
        cls, asset: DiscoveredAsset, *, initial: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        return cls(
            initial={"version": etag_of(asset), **(initial or {})}, prefix=cls.prefix, **kwargs
        )


class AssignAssetForm(AssetForm):
    prefix = "assign"

    unit = forms.ModelChoiceField(
        queryset=BusinessUnit.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        label=_("Business unit"),
    )
    due_on = dates.DayField(
        label=_("New deadline"),
        required=False,
        widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d"),
        help_text=_("Empty: the deadline stays as it is."),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DismissAssetForm(AssetForm):
    prefix = "dismiss"

    reason = forms.ChoiceField(label=_("Reason"), choices=DiscoveredAsset.Reason.choices)
    note = forms.CharField(
        label=_("How you know"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AttachAssetForm(AssetForm):
    prefix = "attach"

    system = SystemChoice(queryset=System.objects.none(), label=_("System"))

    def __init__(self, *args: Any, systems: QuerySet[System], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["system"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = systems


def attachable_systems(user: Any, asset: DiscoveredAsset) -> QuerySet[System]:
    """The systems a person may attach the asset to (policy.can_claim_asset): the ones they
    keep, of the unit it was assigned to unless they act for the CISO's office."""
    systems = keepable_systems(user).exclude(status=System.Status.RETIRED)
    if policy.ciso_office(user) is None:
        if asset.unit_id is None:
            return System.objects.none()
        systems = systems.filter(unit_id=asset.unit_id)
    return systems.select_related("unit").order_by("unit__code", "code")
