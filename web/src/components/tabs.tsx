/** A WAI-ARIA tablist: one tab in the Tab order, arrow keys (and Home/End) move between tabs and
 * select them, and the panel it controls names the tab. */
import type { ComponentChildren } from "preact";
import { useRef } from "preact/hooks";

let nextId = 0;

export function Tabs({
  label,
  head,
  tabs,
  selected,
  onSelect,
  children,
}: {
  label: string;
  /** Shown before the tabs, on the same line (a panel's title). */
  head?: ComponentChildren;
  tabs: string[];
  selected: number;
  onSelect: (index: number) => void;
  children: ComponentChildren;
}) {
  const id = useRef(`tabs-${++nextId}`).current;
  const list = useRef<HTMLDivElement>(null);

  function onKeyDown(event: KeyboardEvent) {
    const last = tabs.length - 1;
    const next =
      event.key === "ArrowRight" ? (selected === last ? 0 : selected + 1)
      : event.key === "ArrowLeft" ? (selected === 0 ? last : selected - 1)
      : event.key === "Home" ? 0
      : event.key === "End" ? last
      : null;
    if (next === null) return;
    event.preventDefault();
    onSelect(next);
    list.current?.querySelectorAll<HTMLButtonElement>('[role="tab"]')[next]?.focus();
  }

  return (
    <>
      <div class="tabs-head">
      {head}
      {tabs.length > 1 && (
        <div class="tabs" role="tablist" aria-label={label} ref={list} onKeyDown={onKeyDown}>
          {tabs.map((name, i) => (
            <button
              type="button"
              role="tab"
              id={`${id}-tab-${i}`}
              aria-selected={i === selected}
              aria-controls={`${id}-panel`}
              tabIndex={i === selected ? 0 : -1}
              onClick={() => onSelect(i)}
            >
              {name}
            </button>
          ))}
        </div>
      )}
      </div>
      <div
        role={tabs.length > 1 ? "tabpanel" : undefined}
        id={`${id}-panel`}
        aria-labelledby={tabs.length > 1 ? `${id}-tab-${selected}` : undefined}
        class="tab-panel"
      >
        {children}
      </div>
    </>
  );
}
