"""People as colleagues know them: the one rule for showing a user's name, in code and in templates."""


def person_name(user, nobody: str = "—") -> str:
    """Full name, else username; `nobody` when there is no user."""
    if user is None:
        return nobody
    return user.get_full_name() or user.username
