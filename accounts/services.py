from django.contrib.auth.models import User


def user_signup(*, username: str, email: str, password: str) -> User:
    """Create an active user with a hashed password; the caller has validated the password."""
    user = User(username=username, email=email)
    user.set_password(password)
    user.full_clean()
    user.save()
    return user
