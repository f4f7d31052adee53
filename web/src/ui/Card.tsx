import { useId, type ReactNode } from "react";

interface CardProps {
  title: string;
  /** A short line under the title: the period, the scope, how many. */
  subtitle?: ReactNode;
  actions?: ReactNode;
  className?: string;
  children: ReactNode;
}

/** A titled region of a page: one card, one question answered. */
export function Card({ title, subtitle, actions, className, children }: CardProps) {
  const id = useId();
  return (
    <section className={`card${className ? ` ${className}` : ""}`} aria-labelledby={id}>
      <header className="card-header">
        <div>
          <h2 id={id} className="card-title">
            {title}
          </h2>
          {subtitle && <p className="card-subtitle">{subtitle}</p>}
        </div>
        {actions && <div className="card-actions">{actions}</div>}
      </header>
      <div className="card-body">{children}</div>
    </section>
  );
}
