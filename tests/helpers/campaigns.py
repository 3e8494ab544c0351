"""Campaign documents and the staff editor form, as the campaign tests build them."""

from __future__ import annotations

from support.campaigns import store
from support.extensions import db
from support.models import Campaign
from tests.factories import csrf


def sample(slug: str = "ramadan", **changes) -> dict:
    """A complete, valid campaign in both languages with two banner variants."""
    doc = {
        "slug": slug,
        "name": "Ramadan drive",
        "status": "draft",
        "starts_at": None,
        "ends_at": None,
        "goal": {"supporters": 500},
        "presets": {"usd": [3, 7, 15]},
        "default_frequency": "month",
        "appeal": {
            "en": {"headline": "Keep Ramadan reporting free", "body": "First.\n\nSecond line."},
            "ar": {"headline": "ادعم تغطيتنا في رمضان", "body": "الفقرة الأولى.\n\nالثانية."},
        },
        "banner": {
            "optimise": False,
            "variants": [
                {
                    "name": "iftar",
                    "weight": 2,
                    "headline": {"en": "Iftar stories", "ar": "حكايات الإفطار"},
                    "text": {"en": "Support us this Ramadan.", "ar": "ادعمنا في رمضان."},
                    "cta": {"en": "Give now", "ar": "ادعم الآن"},
                },
                {
                    "name": "night",
                    "weight": 1,
                    "headline": {"en": "Late-night news", "ar": "أخبار الليل"},
                    "text": {"en": "Readers keep us going.", "ar": "القرّاء يبقوننا."},
                    "cta": {"en": "Join them", "ar": "انضم إليهم"},
                },
            ],
        },
        "targeting": {"langs": ["en", "ar"], "url_prefixes": []},
    }
    doc.update(changes)
    return doc


HOSTILE = '<script>alert("x")</script>'


def form_data(token: str, **changes) -> dict:
    """A complete editor form for the campaign `winter` with two banner variants."""
    data = {
        "csrf_token": token,
        "base_version": "0",
        "slots": "2",
        "name": "Winter appeal",
        "slug": "winter",
        "starts_at": "",
        "ends_at": "",
        "goal.supporters": "500",
        "presets.usd": "3, 7, 12",
        "default_frequency": "year",
        "appeal.en.headline": "Keep the lights on this winter",
        "appeal.en.body": "First paragraph.\n\nSecond paragraph.",
        "appeal.ar.headline": "أبقوا الأضواء مضاءة هذا الشتاء",
        "appeal.ar.body": "الفقرة الأولى.",
        "targeting.url_prefixes": "",
    }
    for slot, name in enumerate(("calm", "urgent")):
        prefix = f"banner.variants[{slot}]"
        data.update(
            {
                f"{prefix}.name": name,
                f"{prefix}.weight": "1",
                f"{prefix}.headline.en": f"Headline {name}",
                f"{prefix}.headline.ar": f"عنوان {slot}",
                f"{prefix}.text.en": f"Text {name}",
                f"{prefix}.text.ar": f"نص {slot}",
                f"{prefix}.cta.en": f"Give {name}",
                f"{prefix}.cta.ar": f"تبرع {slot}",
            }
        )
    data.update(changes)
    return data


def create(client, **changes):
    """Create `winter` (or as changed) through the editor; the response."""
    token = csrf(client, "/staff/campaigns/new")
    return client.post("/staff/campaigns/new", data=form_data(token, **changes))


def saved(slug: str = "winter") -> Campaign | None:
    db.session.expire_all()
    return store.get(slug)


def text(response) -> str:
    return response.get_data(as_text=True)


def draft_document() -> dict:
    """A complete document for `winter`, as import would take it."""
    variant = {
        "weight": 1,
        "headline": {"en": "Hello", "ar": "مرحبا"},
        "text": {"en": "Text", "ar": "نص"},
        "cta": {"en": "Give", "ar": "تبرع"},
    }
    return {
        "slug": "winter",
        "name": "Winter appeal",
        "appeal": {
            "en": {"headline": "Keep the lights on", "body": "Body."},
            "ar": {"headline": "أبقوا الأضواء مضاءة", "body": "نص."},
        },
        "banner": {"variants": [{**variant, "name": "a"}, {**variant, "name": "b"}]},
    }
