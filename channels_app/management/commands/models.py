"""`manage.py models list|retire|retire-due`: the model catalog, for staff and for a daily schedule (retire-due)."""

from django.core.management.base import BaseCommand, CommandError

from channels_app import catalog_services
from channels_app.catalog_models import AiModel


class Command(BaseCommand):
    help = "List the model catalog; retire a model (its channels move to its replacement); retire the due ones."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list")
        retire = sub.add_parser("retire", help="retire a model now; its channels move to the replacement")
        retire.add_argument("slug")
        retire.add_argument("--replacement", help="a model id (default: the model's own replacement)")
        sub.add_parser("retire-due", help="retire every deprecated model whose retirement day has come")

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
                moved = catalog_services.model_retire(model=model, replacement=replacement)
            except AiModel.DoesNotExist:
                raise CommandError("No such model") from None
            except catalog_services.CannotRetire as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{model.slug} retired; {len(moved)} channel(s) moved.")
        else:
            done = catalog_services.models_retire_due()
            for slug, moved in done.items():
                self.stdout.write(f"{slug} retired; {moved} channel(s) moved.")
            if not done:
                self.stdout.write("Nothing due.")
