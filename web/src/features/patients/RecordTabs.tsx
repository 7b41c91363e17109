import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface RecordTab<T extends string> {
  id: T;
  label: string;
}

/**
 * The WAI-ARIA tabs pattern (automatic activation): one tab stop for the list, arrow keys move
 * between tabs and select them, Home and End go to the first and last. Every panel exists (so
 * each tab's aria-controls names an element), only the selected one is shown and rendered.
 */
export function RecordTabs<T extends string>({
  label,
  tabs,
  selected,
  onSelect,
  children,
}: {
  label: string;
  tabs: ReadonlyArray<RecordTab<T>>;
  selected: T;
  onSelect: (tab: T) => void;
  /** The selected tab's panel content. */
  children: ReactNode;
}) {
  const buttons = useRef(new Map<T, HTMLButtonElement>());
  const selectAndFocus = (tab: T | undefined) => {
    if (tab === undefined) return;
    onSelect(tab);
    buttons.current.get(tab)?.focus();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const at = tabs.findIndex((t) => t.id === selected);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (step !== undefined) {
      selectAndFocus(tabs[(at + step + tabs.length) % tabs.length]?.id);
    } else if (event.key === 'Home') {
      selectAndFocus(tabs[0]?.id);
    } else if (event.key === 'End') {
      selectAndFocus(tabs[tabs.length - 1]?.id);
    } else {
      return;
    }
    event.preventDefault();
  };

  return (
    <div className="record-tabs">
      <div role="tablist" aria-label={label} className="tablist" onKeyDown={onKeyDown}>
        {tabs.map((tab) => (
          <button
            key={tab.id}
            ref={(el) => {
              if (el) buttons.current.set(tab.id, el);
              else buttons.current.delete(tab.id);
            }}
            type="button"
            role="tab"
            id={`tab-${tab.id}`}
            aria-selected={tab.id === selected}
            aria-controls={`tabpanel-${tab.id}`}
            tabIndex={tab.id === selected ? 0 : -1}
            className="tab"
            onClick={() => onSelect(tab.id)}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {tabs.map((tab) => (
        <div
          key={tab.id}
          role="tabpanel"
          id={`tabpanel-${tab.id}`}
          aria-labelledby={`tab-${tab.id}`}
          hidden={tab.id !== selected}
          tabIndex={0}
          className="tabpanel stack"
        >
          {tab.id === selected && children}
        </div>
      ))}
    </div>
  );
}

/** Moves keyboard focus to a tab, e.g. after a summary link opened it. */
export function focusTab(tab: string): void {
  document.getElementById(`tab-${tab}`)?.focus();
}
