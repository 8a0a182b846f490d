"""The Knowledge page's forms: each adds one kind of source (the services check and store it)."""

from django import forms


class SiteForm(forms.Form):
    url = forms.URLField(label="Website address", max_length=2000, assume_scheme="https",
                         help_text="Its sitemap.xml is read when it has one; otherwise links are followed from here.")
    max_pages = forms.IntegerField(label="Page limit", min_value=1, initial=50)
    path_prefix = forms.CharField(label="Path prefix (optional)", required=False, max_length=500,
                                  help_text="Only pages whose path starts with this, e.g. /help/. Empty: the address's folder.")


class FileForm(forms.Form):
    file = forms.FileField(label="File", help_text="TXT, Markdown, HTML, PDF or DOCX.")


class TextForm(forms.Form):
    title = forms.CharField(label="Title", max_length=300)
    text = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 4}))


class QAForm(forms.Form):
    question = forms.CharField(label="Question", max_length=300)
    answer = forms.CharField(label="Answer", widget=forms.Textarea(attrs={"rows": 3}))
    unanswered = forms.IntegerField(required=False, widget=forms.HiddenInput)


FORMS = {"site": SiteForm, "file": FileForm, "text": TextForm, "qa": QAForm}
