"""The report's words in English and Bulgarian (``cityops plan --lang``)."""

from __future__ import annotations

from typing import Literal

Lang = Literal["en", "bg"]

TEXT: dict[Lang, dict[str, str]] = {
    "en": {
        "title": "Camera network plan: {place}, budget {budget}",
        "summary": (
            "{cameras} cameras for {cost} of a budget of {budget}; coverage {coverage} of the "
            "weighted demand (existing cameras {baseline}); {gap} ({method}, upper bound {bound})."
        ),
        "optimal": "proven optimal",
        "gap": "within {gap} of the proven bound",
        "chosen": "Chosen cameras",
        "site": "site",
        "model": "model",
        "heading": "heading",
        "gain": "gain: {sector}",
        "cost": "cost",
        "per_sector": "Coverage per sector",
        "sector": "sector",
        "priority": "priority",
        "before": "before",
        "after": "after",
        "curve": "Coverage against budget",
        "budget": "budget",
        "no_curve": "no coverage curve",
        "curve_note": (
            "Solid: the coverage the planner found for each budget; dashed: the proven upper "
            "bound (no plan within that budget covers more)."
        ),
        "uncovered": "Key objects still not covered ({n} of {total})",
        "footer": (
            "{points} demand points, {sites} candidate sites, {candidates} site-model-heading "
            "choices, {seconds} s. Map data © OpenStreetMap contributors (ODbL)."
        ),
        "safety": "safety",
        "transport": "transport",
        "disasters": "disasters",
        "layer_existing": "existing cameras",
        "layer_views": "fields of view",
        "layer_cameras": "proposed cameras",
        "layer_keys": "key objects",
    },
    "bg": {
        "title": "План за видеонаблюдение: {place}, бюджет {budget}",
        "summary": (
            "{cameras} камери за {cost} от бюджет {budget}; покритие {coverage} от претеглените "
            "места (съществуващите камери: {baseline}); {gap} ({method}, горна граница {bound})."
        ),
        "optimal": "доказано оптимално",
        "gap": "до {gap} от доказаната горна граница",
        "chosen": "Избрани камери",
        "site": "място",
        "model": "модел",
        "heading": "посока",
        "gain": "принос: {sector}",
        "cost": "цена",
        "per_sector": "Покритие по сектори",
        "sector": "сектор",
        "priority": "приоритет",
        "before": "преди",
        "after": "след",
        "curve": "Покритие спрямо бюджета",
        "budget": "бюджет",
        "no_curve": "няма крива на покритието",
        "curve_note": (
            "Плътна линия: покритието, намерено за всеки бюджет; пунктир: доказаната горна "
            "граница (никой план в този бюджет не покрива повече)."
        ),
        "uncovered": "Ключови обекти, които остават непокрити ({n} от {total})",
        "footer": (
            "{points} точки на търсене, {sites} възможни места, {candidates} комбинации място-"
            "модел-посока, {seconds} s. Картни данни © сътрудници на OpenStreetMap (ODbL)."
        ),
        "safety": "сигурност",
        "transport": "транспорт",
        "disasters": "бедствия",
        "layer_existing": "съществуващи камери",
        "layer_views": "зрителни полета",
        "layer_cameras": "предложени камери",
        "layer_keys": "ключови обекти",
    },
}
