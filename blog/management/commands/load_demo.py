import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from blog.models import Post

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


class Command(BaseCommand):
    help = "Load the demo articles into an empty database and create a demo admin account."

    def handle(self, *args, **options) -> None:
        if Post.objects.exists():
            self.stdout.write("Posts already exist; demo content not loaded.")
        else:
            call_command("import_markdown", str(DEMO_DIR), stdout=self.stdout, stderr=self.stderr)
        user_model = get_user_model()
        if user_model.objects.filter(username="admin").exists():
            self.stdout.write("Demo admin 'admin' already exists (its password was printed once).")
            return
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser("admin", "admin@example.com", password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo admin created. Log in at http://127.0.0.1:8000/admin/ as 'admin' with "
                f"password: {password}\n(This password is shown only once.)"
            )
        )
