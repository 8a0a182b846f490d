"""`manage.py models list|retire|retire-due|sync`: the model catalog, for staff and for schedules (retire-due, sync)."""

from django.core.management.base import BaseCommand, CommandError

from channels_app import model_retirement
from channels_app.providers import catalog_sync
from channels_app.providers.catalog_models import AiModel


class Command(BaseCommand):
    help = "List the model catalog; retire a model (its channels move to its replacement); retire the due ones."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list")
        retire = sub.add_parser("retire", help="retire a model now; its channels move to the replacement")
        retire.add_argument("slug")
        retire.add_argument("--replacement", help="a model id (default: the model's own replacement)")
        sub.add_parser("retire-due", help="retire every deprecated model whose retirement day has come")
        sub.add_parser("sync", help="check the catalog against each provider's GET /models: flag what it no longer "
                                    "lists, note what the catalog lacks")

    def handle(self, *args, **opts):
        if opts["action"] == "list":
            for m in AiModel.objects.select_related("provider", "replacement"):
                extra = f" until {m.retires_on}" if m.retires_on else ""
                flag = "  ATTENTION: provider says gone" if m.attention else ""
                self.stdout.write(
                    f"{m.slug}\t{m.status}{extra}\t{m.provider.name} as {m.upstream_id or m.slug}\t"
                    f"${m.input_price}/${m.output_price} per 1M\t-> {m.replacement or '-'}{flag}"
                )
        elif opts["action"] == "retire":
            try:
                model = AiModel.objects.get(slug=opts["slug"])
                replacement = AiModel.objects.get(slug=opts["replacement"]) if opts["replacement"] else None
                moved = model_retirement.model_retire(model=model, replacement=replacement)
            except AiModel.DoesNotExist:
                raise CommandError("No such model") from None
            except model_retirement.CannotRetire as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{model.slug} retired; {len(moved)} channel(s) moved.")
        elif opts["action"] == "sync":
            self._sync()
        else:
            done = model_retirement.models_retire_due()
            for slug, moved in done.items():
                self.stdout.write(f"{slug} retired; {moved} channel(s) moved.")
            if not done:
                self.stdout.write("Nothing due.")

    def _sync(self):
        failed = False
        for result in catalog_sync.models_sync():
            if result.skipped:
                self.stdout.write(f"{result.provider}: skipped ({result.skipped})")
                continue
            if result.error:
                failed = True
                self.stderr.write(f"{result.provider}: could not read its model list: {result.error}")
                continue
            self.stdout.write(f"{result.provider}: lists {result.listed} model(s)")
            for slug in result.gone:
                self.stdout.write(f"  NO LONGER LISTED: {slug} (flagged for staff; retire it with a replacement)")
            for model_id in result.missing:
                self.stdout.write(f"  not in the catalog: {model_id}")
        if failed:
            raise CommandError("Some providers' model lists could not be read (see above)")
