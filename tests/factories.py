"""factory_boy factories shared by the whole suite."""
import factory
from django.utils import timezone

from accounts.models import PayoutDestination, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.co.id")
    full_name = factory.Sequence(lambda n: f"Pengguna Nomor {n}")
    phone = factory.Sequence(lambda n: f"+62812{n:08d}")
    # An established user has proved their address (invitations need it); tests about
    # unverified addresses pass ``email_verified_at=None``.
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", "rahasia-yang-kuat-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    is_staff = True


class BankDestinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PayoutDestination

    owner = factory.SubFactory(UserFactory)
    kind = PayoutDestination.Kind.BANK
    bank_code = "014"
    account_number = factory.Sequence(lambda n: f"{1234500000 + n}")
    account_holder_name = factory.LazyAttribute(lambda o: o.owner.full_name)
