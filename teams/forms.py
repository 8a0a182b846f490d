"""The staff admin's form for an organisation: credits granted to each chosen organisation (teams/admin.py). The
organisation's own pages and their forms are the dashboard's (dashboard/team_forms.py)."""

from django import forms

from teams.credits import MOVE_MAX


class GrantForm(forms.Form):
    """The admin's "Grant credits" action on organisations."""

    amount = forms.IntegerField(min_value=1, max_value=MOVE_MAX, label="Credits to add to each")
