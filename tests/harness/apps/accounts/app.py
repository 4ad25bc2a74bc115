"""An accounts service shaped like many FastAPI apps found in the wild: an OAuth2 password
login (a form whose optional fields are nullable) and sign-up bodies with pydantic's
EmailStr, which refuses reserved and special-use domains (.test, .example, .invalid)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, EmailStr, Field

app = FastAPI(title="accounts")


class SignUp(BaseModel):
    email: EmailStr
    name: str = Field(min_length=2, max_length=40)
    backup_email: EmailStr | None = None


@app.post("/token")
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
    return {"access_token": form.username, "token_type": "bearer"}


@app.post("/users", status_code=201)
async def sign_up(user: SignUp) -> SignUp:
    return user
